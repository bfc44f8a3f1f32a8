"""What the public API says: descriptors, the method catalogue, validation from annotations, errors, values."""
