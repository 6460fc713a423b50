"""Ward analysis (no SQL, no Streamlit): ranking, one ward's profile, where children are worst off."""
