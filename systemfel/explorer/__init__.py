"""Helpers for the Streamlit explorer (app.py): pure functions, testable without Streamlit.

Tables are built here as pandas DataFrames with Swedish column names, so what the
user sees and what they export are the same thing.
"""
