"""Stage 1: is this a medical image, and of which anatomy?"""
