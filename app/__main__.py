"""`python -m app`: start the Streamlit app (same as `shouhu serve`)."""

from app.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["serve", *__import__("sys").argv[1:]]))
