"""Front ends: the Streamlit app and the `shouhu` CLI, both thin over `app.services`."""
