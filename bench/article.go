// article.go: the Go program that the course's article builds, at its
// last step (the namespaces of ch06-net), as a reference point for
// bench/startup.sh.
//
//	article [COMMAND [ARG...]]     (no COMMAND: bash, as in the article)
//
// exec.Cmd with SysProcAttr.Cloneflags: Go's runtime starts, forks the
// command into new UTS, IPC, PID, mount, user and network namespaces,
// execs it and waits. The only change from the article's program is that
// the command comes from the arguments, so that the benchmark can run
// `true`. The script builds it with `go build` when `go` is installed,
// and says so when it is not.
package main

import (
	"log"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	command := []string{"bash"}
	if len(os.Args) > 1 {
		command = os.Args[1:]
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC |
			syscall.CLONE_NEWPID | syscall.CLONE_NEWNS |
			syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
	}
	cmd.Stdin = os.Stdin
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalln(err)
	}
}
