"""One module per API noun; reached through ``AsyncGrok`` attributes."""
