FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY core core
COPY schemas schemas
COPY intake intake
COPY classifiers classifiers
COPY routing routing
COPY cases cases
COPY workers workers
COPY web web
COPY service service
COPY accounts accounts
COPY notify notify
COPY rewards rewards
COPY insights insights
COPY opendata opendata
COPY products products
COPY supervision supervision
COPY citizens citizens
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system complaints \
    && mkdir -p /var/lib/complaints && chown complaints /var/lib/complaints
USER complaints
EXPOSE 8000
CMD ["complaints", "api", "--host", "0.0.0.0", "--port", "8000", "--migrate"]
