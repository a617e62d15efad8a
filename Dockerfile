# syntax=docker/dockerfile:1
# Build a static binary, then ship it alone on a distroless base as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/goshop/goshop/internal/app.Version=${VERSION}" \
      -o /out/goshop ./cmd/goshop

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/goshop /goshop
USER nonroot:nonroot
# MEDIA_DIR: the non-root user's home is the one place it may write (mount a volume there).
ENV APP_ENV=production HTTP_ADDR=:8080 MEDIA_DIR=/home/nonroot/media
EXPOSE 8080
HEALTHCHECK NONE
ENTRYPOINT ["/goshop"]
CMD ["serve"]
