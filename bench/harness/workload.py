"""The synthetic capture workload the ingestion benchmarks share.

Events look like what posthog-js sends from a product site: ~1.1 KB, 35+ properties (browser,
OS, screen, URL, referrer, session and window ids, a few business properties). Distinct ids
follow a realistic mix:

* most events (``returning``) come from ids already seen: known users and anonymous
  visitors who come back, each with a stable browser/OS;
* some come from new anonymous visitors, who then join the returning pool;
* a few are ``$identify`` of an anonymous visitor as a (new) user, carrying ``$set``;
* a few others carry a ``$set`` (a plan change).

    .venv/bin/python -m harness.workload   # from bench/: a sample event and the body size
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field

import orjson

TOKEN_PLACEHOLDER = "phc_bench"
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge"]
OSES = ["Mac OS X", "Windows", "Linux", "iOS", "Android"]
EVENTS = ["$pageview", "$pageview", "$autocapture", "$pageleave", "signed_up", "clicked_button",
          "purchase"]  # fmt: skip
SENT_AT = "2026-11-26T12:00:01.000Z"


@dataclass(slots=True)
class Visitor:
    distinct_id: str
    browser: str
    os: str
    session_id: str


@dataclass
class Workload:
    """A stream of events with a realistic distinct-id mix (see the module docstring).

    ``prefix`` keeps the ids of parallel generators apart; ``returning`` and ``identify``
    are the shares of events from returning visitors and of ``$identify`` events.
    """

    token: str
    seed: int = 7
    prefix: str = "w"
    known_users: int = 5_000
    returning: float = 0.85
    identify: float = 0.03
    set_share: float = 0.02
    rng: random.Random = field(init=False)
    visitors: list[Visitor] = field(init=False, default_factory=list)
    anonymous: list[Visitor] = field(init=False, default_factory=list)
    counter: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.visitors = [self._visitor(f"{self.prefix}-user-{i}") for i in range(self.known_users)]

    def _visitor(self, distinct_id: str) -> Visitor:
        rng = self.rng
        return Visitor(distinct_id, rng.choice(BROWSERS), rng.choice(OSES), str(uuid.uuid4()))

    def event(self) -> dict:
        """The next event (its ``uuid`` is set and unique)."""
        rng = self.rng
        self.counter += 1
        roll = rng.random()
        identify_from: Visitor | None = None
        if roll < self.identify and self.anonymous:
            identify_from = self.anonymous.pop(rng.randrange(len(self.anonymous)))
            visitor = Visitor(f"{self.prefix}-user-{len(self.visitors)}", identify_from.browser,
                              identify_from.os, identify_from.session_id)  # fmt: skip
            self.visitors.append(visitor)
        elif roll < self.identify + self.returning:
            visitor = self.visitors[rng.randrange(len(self.visitors))]
        else:
            visitor = self._visitor(f"{self.prefix}-anon-{uuid.uuid4()}")
            self.visitors.append(visitor)
            self.anonymous.append(visitor)
        return self._event(visitor, identify_from)

    def _event(self, visitor: Visitor, identify_from: Visitor | None) -> dict:
        rng = self.rng
        page = rng.randint(1, 5000)
        props = {
            "$os": visitor.os, "$browser": visitor.browser, "$device_type": "Desktop",
            "$current_url": f"https://example.com/products/{page}?ref=home",
            "$host": "example.com", "$pathname": f"/products/{page}",
            "$browser_version": 120, "$screen_height": 1080, "$screen_width": 1920,
            "$viewport_height": 950, "$viewport_width": 1900, "$lib": "web",
            "$lib_version": "1.200.0", "$insert_id": uuid.uuid4().hex[:16], "$time": time.time(),
            "distinct_id": visitor.distinct_id, "$device_id": visitor.session_id,
            "$referrer": "https://www.google.com/", "$referring_domain": "www.google.com",
            "$session_id": visitor.session_id, "$window_id": visitor.session_id[:30] + "w",
            "$pageview_id": str(uuid.uuid4()), "token": self.token,
            "$is_identified": not visitor.distinct_id.startswith(f"{self.prefix}-anon"),
            "$process_person_profile": True,
            "plan": rng.choice(["free", "pro", "enterprise"]), "price": round(rng.random() * 100, 2),
            "quantity": rng.randint(1, 10), "coupon": rng.choice(["", "SPRING", "VIP"]),
            "experiment_variant": rng.choice(["control", "test"]), "utm_source": "newsletter",
            "title": "Product page " + "x" * rng.randint(10, 60), "$event_number": self.counter,
            "$feature/new-checkout": rng.choice([True, False]), "$active_feature_flags": ["new-checkout"],
        }  # fmt: skip
        event = {
            "event": "$identify" if identify_from else rng.choice(EVENTS),
            "distinct_id": visitor.distinct_id,
            "properties": props,
            "timestamp": "2026-11-26T12:00:00.000Z",
            "uuid": str(uuid.uuid4()),
        }
        if identify_from is not None:
            props["$anon_distinct_id"] = identify_from.distinct_id
            event["$set"] = {"email": f"{visitor.distinct_id}@example.com", "name": visitor.distinct_id}
        elif rng.random() < self.set_share:
            event["$set"] = {"plan": props["plan"]}
        return event

    def batch_body(self, size: int) -> tuple[bytes, list[str]]:
        """A ``/batch/`` request body of ``size`` events (posthog-python's envelope), and
        the uuids it carries."""
        events = [self.event() for _ in range(size)]
        body = orjson.dumps({"api_key": self.token, "batch": events, "sent_at": SENT_AT})
        return body, [e["uuid"] for e in events]

    def single_body(self) -> tuple[bytes, list[str]]:
        """A one-event body as posthog-js posts to ``/e/`` (token in the properties)."""
        event = self.event()
        return orjson.dumps(event), [event["uuid"]]


if __name__ == "__main__":
    w = Workload(TOKEN_PLACEHOLDER)
    body, uuids = w.batch_body(100)
    sample = orjson.loads(body)["batch"][0]
    print(orjson.dumps(sample, option=orjson.OPT_INDENT_2).decode())
    print(f"100-event /batch/ body: {len(body):,} B ({len(body) / 100:.0f} B/event, "
          f"{len(sample['properties'])} properties)")  # fmt: skip
