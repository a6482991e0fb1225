"""One module per Grafana board, and the panel kit they share."""
