"""Webhook destinations: what PostHog calls hog functions of type ``destination``.

Pure parts only (no I/O besides :mod:`.send`): the HTTP webhook template, the templating of
its inputs, trigger filters as one HogQL condition, the legacy action-webhook message, and
the outbound address policy. The dispatcher that matches and delivers is
:mod:`hedgerow.services.delivery`.
"""
