FROM python:3.11-slim
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.8
COPY pyproject.toml uv.lock README.md ./
COPY backend backend
COPY sync_protocol sync_protocol
COPY scanner scanner
COPY notifications notifications
RUN uv sync --frozen --no-dev && ln -s /app/.venv/bin/outpost /usr/local/bin/outpost
ENV OUTPOST_VAR_DIR=/app/var
EXPOSE 8000
