"""Pure builders of what readers see: theme, charts, maps, geometry and file exports (no Streamlit)."""
