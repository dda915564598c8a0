"""preprocess/segmenters"""
