// Package scaletest holds the scale journey (journey_test.go): GoShop past one process, proven on
// this machine. It starts a throwaway PostgreSQL primary with a streaming hot standby
// (scripts/pg-standby.sh), two API processes (`goshop serve -no-workers`) and one worker process
// (`goshop worker`) on them and the local Redis, and walks a buyer's order through both API
// instances, then kills an API instance and the worker (kill -9) and checks that nothing is lost.
// It runs only with GOSHOP_SCALE_JOURNEY=1 (`make scale-journey`, and .ci/run).
package scaletest
