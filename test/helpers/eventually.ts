// Polls until check() stops throwing: the server cleans up after a client or node has gone, so
// tests wait for the state they assert instead of sleeping a fixed time.
export async function eventually(check: () => void | Promise<void>, attempts = 500, everyMs = 20): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await check();
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
