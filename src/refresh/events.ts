// The refresh events are catalogued with every other event in src/events.
export {
  REFRESH_EVENTS,
  type RefreshEvent,
  type RefreshEventName,
  type RefreshListener,
  type RefreshReason,
} from '../events/catalogue.ts';
