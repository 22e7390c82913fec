"""One module per explorer view. A module here with SLUG, TITLE, ORDER and `render(ctx)` is a view:
adding a view is adding one file (the sidebar and the `?vy=` URL find it).

Not named `pages`: Streamlit lists a `pages/` folder beside the script it runs as pages of its
own, and `systemfel app` runs `explorer/main.py`."""
