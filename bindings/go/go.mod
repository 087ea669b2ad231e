module github.com/keycard/keycard/bindings/go

go 1.19
