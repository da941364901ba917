"""Values no field expects, and the check that each gets a PostHog-shaped 4xx (or is accepted),
never a 500, on create and on update."""

from __future__ import annotations

from typing import Any

WEIRD: list[Any] = [
    None, True, 0, -1, 2**70, 1.5, "", "x" * 5000, "a\x00b", [], [None], [{"a": 1}], {}, {"kind": None}, "1e309",
    ["1", 2], [2**70],
]  # fmt: skip


def assert_no_500(api, create_path: str, update_path: str, field: str, values: list[Any]) -> None:
    for value in values:
        for response in (api.post(create_path, {field: value}), api.patch(update_path, {field: value})):
            assert response.status_code < 500, (field, value, response.text)
            if response.status_code >= 400:
                assert set(response.json()) == {"type", "code", "detail", "attr"}, response.text
