"""Analysis on tidy frames (no SQL, no Streamlit): statistics, comparisons, headlines, sentences, targets, wards."""
