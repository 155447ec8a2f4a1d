"""What the user sees while a run goes on: plain lines, the Rich live view, progress bookkeeping."""
