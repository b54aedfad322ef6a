"""Thin command-line shell: each command parses, calls one library function, prints."""
