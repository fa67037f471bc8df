"""The Streamlit desk, its services and its store."""
