"""Stage 4: print the lowered tree as engine SQL (literals bound, identifiers quoted)."""
