enum RotationPlaceholder {}
