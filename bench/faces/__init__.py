"""Face recognition benchmark (python -m bench.faces): see README.md here."""
