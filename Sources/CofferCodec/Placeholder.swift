enum CodecPlaceholder {}
