"""Template, script and stylesheet of the HTML page written by ``kg.viz`` (data files only)."""
