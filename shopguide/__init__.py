"""shopguide: the bottom layer (settings, errors, logs, migrations, the demo store) and, above everything, `cli` and `bench`."""
