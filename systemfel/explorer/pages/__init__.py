"""One module per explorer view. A module here with SLUG, TITLE, ORDER and `render(ctx)` is a view:
adding a view is adding one file (the sidebar and the `?vy=` URL find it)."""
