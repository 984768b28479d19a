package ninep

// Err is the error the connection failed with, or nil while it works: a
// caller that keeps a client across many reads (the agent's fleet mode)
// knows from it when to dial again.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
