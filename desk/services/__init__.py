"""Desk logic with no Streamlit import: queries and workflow."""
