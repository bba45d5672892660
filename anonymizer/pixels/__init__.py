"""Pixel I/O, split as pydicom's own pixels package is: decode, render, encode."""
