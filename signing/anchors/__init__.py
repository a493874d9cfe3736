"""Vietnamese trust anchors shipped as data (see README.md); a package only so that installs carry the files."""
