package watch

// WatchError lets the tests check the advice for each errno.
var WatchError = watchError
