"""Streamlit pages: UI only."""
