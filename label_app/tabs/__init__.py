"""The label app's tabs, one module each: a tab builds its components and wires their events.

UI events are private (`PRIVATE`): the named API endpoints of `label_app.review_service` are the programmatic way in.
"""

PRIVATE = {"api_visibility": "private"}
