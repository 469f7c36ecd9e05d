/** `lig demo`: the whole chain on loopback on the bundled capture, and what the agency received. */
export { DEFAULT_DEMO_OUT, DEMO_CAPTURE, DEMO_LIID, DEMO_TARGET, DEMO_TIMEOUT_MS, bundledCapture, prepareOut, runDemo, type DemoOptions } from './demo';
export { DEMO_AGENCY, DEMO_PROBE, closeBackend, deliveryProgress, mediatorYaml, probeTls, startBackend, whenDelivered, type Backend, type BackendOptions, type ChainLog, type DeliveryProgress } from './chain';
export { demoLines, demoProblems, readReceived, type CcFile, type DemoResult, type ReceivedFiles } from './report';
