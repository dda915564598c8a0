"""report/render"""
