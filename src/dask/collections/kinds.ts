/** Loads every collection kind, so a collection that crosses a process boundary is revived as its class. */
import "./dataframe/frame.ts";
