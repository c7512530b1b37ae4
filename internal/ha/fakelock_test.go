package ha

import (
	"context"
	"errors"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
)

// fakeLock is an in-memory Lease shared by fakeLock handles, one per
// identity, that can fail or hang like an unreachable API server.
type fakeLock struct {
	id    string
	store *fakeStore
}

type fakeStore struct {
	mu     sync.Mutex
	record *rl.LeaderElectionRecord
	rev    int
	mode   fakeMode
}

type fakeMode int

const (
	fakeOK   fakeMode = iota
	fakeFail          // every call fails at once
	fakeHang          // every call blocks until its context is done
)

var errUnreachable = errors.New("fake api server unreachable")

func (s *fakeStore) setMode(m fakeMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

func (s *fakeStore) holder() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.record == nil {
		return ""
	}
	return s.record.HolderIdentity
}

func (s *fakeStore) enter(ctx context.Context) error {
	s.mu.Lock()
	mode := s.mode
	s.mu.Unlock()
	switch mode {
	case fakeFail:
		return errUnreachable
	case fakeHang:
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (l *fakeLock) Get(ctx context.Context) (*rl.LeaderElectionRecord, []byte, error) {
	if err := l.store.enter(ctx); err != nil {
		return nil, nil, err
	}
	l.store.mu.Lock()
	defer l.store.mu.Unlock()
	if l.store.record == nil {
		return nil, nil, apierrors.NewNotFound(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "fake")
	}
	r := *l.store.record
	return &r, []byte{byte(l.store.rev)}, nil
}

func (l *fakeLock) Create(ctx context.Context, ler rl.LeaderElectionRecord) error {
	if err := l.store.enter(ctx); err != nil {
		return err
	}
	l.store.mu.Lock()
	defer l.store.mu.Unlock()
	if l.store.record != nil {
		return errors.New("fake lease exists")
	}
	l.store.record = &ler
	l.store.rev++
	return nil
}

func (l *fakeLock) Update(ctx context.Context, ler rl.LeaderElectionRecord) error {
	if err := l.store.enter(ctx); err != nil {
		return err
	}
	l.store.mu.Lock()
	defer l.store.mu.Unlock()
	l.store.record = &ler
	l.store.rev++
	return nil
}

func (l *fakeLock) RecordEvent(string) {}
func (l *fakeLock) Identity() string   { return l.id }
func (l *fakeLock) Describe() string   { return "fake/" + l.id }

var _ rl.Interface = (*fakeLock)(nil)
