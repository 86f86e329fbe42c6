"""The dashboard's pages, one module per area; each view parses input, calls the domain, renders."""
