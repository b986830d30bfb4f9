"""The day, type and model version filters the review queue and the cases tabs share."""

from __future__ import annotations

import gradio as gr

from label_app.review_service import ReviewService
from label_app.snapshot import filter_choices

ALL = "all"


class Filters:
    """Every tab's day, type and model version dropdowns; `refresh` gives them all the choices of the data."""

    def __init__(self, service: ReviewService):
        self.service = service
        self.dropdowns: list[gr.Dropdown] = []

    def add(self) -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown]:
        """A day, a type and a model version dropdown for one tab, each at 'all'."""
        added = (gr.Dropdown([("All days", ALL)], value=ALL, label="Day"),
                 gr.Dropdown([("All types", ALL)], value=ALL, label="Type"),
                 gr.Dropdown([("All versions", ALL)], value=ALL, label="Model version"))
        self.dropdowns += added
        return added

    def refresh(self) -> list[gr.Dropdown]:
        """Updates of every dropdown: days newest first (today marked), the types and the model versions."""
        snapshot = self.service.snapshot()
        choices = filter_choices(snapshot)
        days = [("All days", ALL)] + [(f"Day {day}" + (" (today)" if day == snapshot.today else ""), str(day))
                                      for day in choices["days"]]
        types = [("All types", ALL)] + [(value, value) for value in choices["types"]]
        versions = [("All versions", ALL)] + [(value, value) for value in choices["model_versions"]]
        return [gr.Dropdown(choices=options) for options in (days, types, versions) * (len(self.dropdowns) // 3)]


def filter_value(value: str | None) -> str | None:
    """A type or model version dropdown's value as a filter: None for 'all'."""
    return None if value in (None, "", ALL) else str(value)


def day_value(value: str | int | None) -> int | None:
    """A day dropdown's value as a filter: None for 'all'."""
    return None if value in (None, "", ALL) else int(value)
