// Package httpconn tracks the connections of an http.Server, so a server
// that stops can close the ones http.Server leaves alone.
//
// http.Server.Shutdown waits for connections that have not sent a request
// yet (a peer that connects and stays silent holds it for its whole
// timeout), and neither Shutdown nor Close touches hijacked connections
// (websockets). A Set, installed as the server's ConnState hook, knows
// them all:
//
//	var conns httpconn.Set
//	srv := &http.Server{Handler: h, ConnState: conns.Track}
//	...
//	conns.CloseNew()  // before Shutdown: nobody is waiting on these
//	conns.CloseAll()  // after Close: hijacked ones too
//
// It imports nothing of Cairn's own.
package httpconn
