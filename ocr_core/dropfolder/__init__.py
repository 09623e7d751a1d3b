"""The S3 drop-folder job (and `ocr batch ./in --out ./out`): every uploaded image gets one JSON answer.

`runner.py` answers one object (idempotent, mode and format per upload), `jobs.py` fans a job
manifest out and writes its summary, `store.py` is where answers live (S3 or a local folder).
Not to be confused with the HTTP route `POST /api/ocr/batch` (several images in one request,
functions/api/) or a recognizer's tensor batch (recognize.py).
"""
