// Package procmem gives memory that start-up needed back to the system once the process is
// serving, so that an idle GoShop holds what it uses, not what it touched once.
package procmem
