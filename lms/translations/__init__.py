"""Flask-Babel message catalogues (fr); compiled .mo files are committed beside the .po."""
