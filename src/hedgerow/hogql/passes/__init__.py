"""Tree passes, each one decision. :mod:`hedgerow.hogql.compile` runs them in order."""
