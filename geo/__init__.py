"""Pure domain rules and analysis: no files, no database, no Streamlit."""
