package postgres

import (
	"context"
	"slices"
	"time"

	"salonbook/src/core"
)

// CatalogTTL is how long a salon's configuration (the salon, its services and
// masters) is served from memory. It changes only when a salon file is applied:
// Apply on this Store drops the cached copy at once, and another process's apply
// is seen within CatalogTTL. Bookings stay safe meanwhile: overlaps are refused by
// the database, not by this cache.
const CatalogTTL = 5 * time.Second

type catalog struct {
	salon    *core.Salon
	services []core.Service
	masters  []core.Master
	loaded   time.Time
}

// catalog returns the salon's configuration, from memory when fresh.
func (t *storeTx) catalog(ctx context.Context, salonID string) (*catalog, error) {
	s := t.s
	s.mu.Lock()
	c := s.catalogs[salonID]
	s.mu.Unlock()
	if c != nil && time.Since(c.loaded) < CatalogTTL {
		return c, nil
	}
	c = &catalog{loaded: time.Now()}
	var err error
	if c.salon, err = t.loadSalon(ctx, salonID); err != nil {
		return nil, err
	}
	if c.services, err = t.loadServices(ctx, salonID); err != nil {
		return nil, err
	}
	if c.masters, err = t.loadMasters(ctx, salonID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.catalogs[salonID] = c
	s.mu.Unlock()
	return c, nil
}

// forget drops the cached configuration of a salon.
func (s *Store) forget(salonID string) {
	s.mu.Lock()
	delete(s.catalogs, salonID)
	s.mu.Unlock()
}

// Salon returns the salon. ENotFound.
func (t *storeTx) Salon(ctx context.Context, salonID string) (*core.Salon, error) {
	c, err := t.catalog(ctx, salonID)
	if err != nil {
		return nil, err
	}
	sl := *c.salon
	return &sl, nil
}

// Services returns the salon's active services in file order. The slice is the
// caller's; the maps inside are shared and must not be changed.
func (t *storeTx) Services(ctx context.Context, salonID string) ([]core.Service, error) {
	c, err := t.catalog(ctx, salonID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.services), nil
}

// Masters returns the salon's active masters in file order. The slice is the
// caller's; the slices inside are shared and must not be changed.
func (t *storeTx) Masters(ctx context.Context, salonID string) ([]core.Master, error) {
	c, err := t.catalog(ctx, salonID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.masters), nil
}
