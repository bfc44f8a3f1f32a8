"""The control plane: the control operations defined once, their HTTP server, the remote client."""
