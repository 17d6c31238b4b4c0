import { createApi } from '@reduxjs/toolkit/query/react';
import type {
  AdminUser,
  AdminUserList,
  AdminUserQuery,
  AuditList,
  AuditQuery,
  CategoryList,
  Channel,
  ChannelRoles,
  ChannelStream,
  DirectoryStreams,
  FollowList,
  FollowState,
  LiveStreamList,
  LoginRequest,
  Me,
  MfaChallenge,
  NotificationList,
  NotificationSettings,
  NotificationSettingsPatch,
  NotificationsRead,
  PublicProfile,
  RegisterRequest,
  SearchResults,
  SocketTicket,
  StreamKeyResponse,
  UnreadCount,
  SuspendRequest,
  StreamSettings,
  TokenResponse,
  UpdateChannelRequest,
  UpdateMeRequest,
  UpdateStreamRequest,
  UpdateVideoRequest,
  Video,
  VideoList,
} from '@neon/contracts';
import { baseQuery } from './base-query';
import { signedIn, signedOut, userUpdated } from './session';

const u = encodeURIComponent;

export const api = createApi({
  reducerPath: 'api',
  baseQuery,
  tagTypes: [
    'Streams',
    'Profile',
    'StreamKey',
    'Stream',
    'Videos',
    'AdminUsers',
    'Audit',
    'Channel',
    'MyChannel',
    'Follows',
    'Roles',
    'Categories',
    'NotificationSettings',
  ],
  endpoints: (b) => ({
    register: b.mutation<TokenResponse, RegisterRequest>({
      query: (body) => ({ url: 'api/v1/auth/register', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(signedIn(data));
          // Pages seen signed out (a channel's follow button) are asked again as the new user.
          dispatch(api.util.resetApiState());
        } catch {
          // The component that fired the mutation shows the error.
        }
      },
    }),
    login: b.mutation<TokenResponse | MfaChallenge, LoginRequest>({
      query: (body) => ({ url: 'api/v1/auth/login', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          // A second factor is due: the login page asks for it (account-api's mfaSignIn).
          if ('mfaRequired' in data) return;
          dispatch(signedIn(data));
          dispatch(api.util.resetApiState());
        } catch {
          // The component that fired the mutation shows the error.
        }
      },
    }),
    logout: b.mutation<void, void>({
      query: () => ({ url: 'api/v1/auth/logout', method: 'POST', body: {} }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        // Forget the session locally even if the server could not be told.
        await queryFulfilled.catch(() => undefined);
        dispatch(signedOut());
        dispatch(api.util.resetApiState());
      },
    }),
    socketTicket: b.mutation<SocketTicket, void>({
      query: () => ({ url: 'api/v1/auth/socket-ticket', method: 'POST', body: {} }),
    }),
    updateMe: b.mutation<Me, UpdateMeRequest>({
      query: (body) => ({ url: 'api/v1/me', method: 'PATCH', body }),
      invalidatesTags: ['Profile'],
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(userUpdated(data));
        } catch {
          // The component that fired the mutation shows the error.
        }
      },
    }),
    profile: b.query<PublicProfile, string>({
      query: (username) => `api/v1/users/${u(username)}`,
      providesTags: (_r, _e, username) => [{ type: 'Profile', id: username }],
    }),

    streams: b.query<LiveStreamList, void>({
      query: () => 'api/v1/streams',
      providesTags: ['Streams'],
    }),
    channelStream: b.query<ChannelStream, string>({
      query: (username) => `api/v1/channels/${u(username)}/stream`,
      providesTags: (_r, _e, username) => [{ type: 'Stream', id: username }],
    }),
    channelVideos: b.query<VideoList, string>({
      query: (username) => `api/v1/channels/${u(username)}/videos`,
      providesTags: (_r, _e, username) => [{ type: 'Videos', id: username }],
    }),
    video: b.query<Video, string>({ query: (id) => `api/v1/videos/${u(id)}` }),
    /** The owner renames a recording or keeps it from retention: only what is given is sent. */
    updateVideo: b.mutation<Video, { id: string } & UpdateVideoRequest>({
      query: ({ id, ...body }) => ({
        url: `api/v1/videos/${u(id)}`,
        method: 'PATCH',
        body,
      }),
      invalidatesTags: (r) => (r ? [{ type: 'Videos', id: r.channel }] : []),
      async onQueryStarted({ id }, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          void dispatch(api.util.upsertQueryData('video', id, data));
        } catch {
          // The form or the toggle shows the error.
        }
      },
    }),
    deleteVideo: b.mutation<void, { id: string; channel: string }>({
      query: ({ id }) => ({ url: `api/v1/videos/${u(id)}`, method: 'DELETE' }),
      invalidatesTags: (_r, _e, { channel }) => [{ type: 'Videos', id: channel }],
    }),

    streamKey: b.query<StreamKeyResponse, void>({
      query: () => 'api/v1/me/stream-key',
      providesTags: ['StreamKey'],
    }),
    regenerateStreamKey: b.mutation<StreamKeyResponse, void>({
      query: () => ({ url: 'api/v1/me/stream-key', method: 'POST', body: {} }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          void dispatch(api.util.upsertQueryData('streamKey', undefined, data));
        } catch {
          // The component that fired the mutation shows the error.
        }
      },
    }),
    myStream: b.query<StreamSettings, void>({
      query: () => 'api/v1/me/stream',
      providesTags: ['Stream'],
    }),
    updateMyStream: b.mutation<StreamSettings, UpdateStreamRequest>({
      query: (body) => ({ url: 'api/v1/me/stream', method: 'PATCH', body }),
      invalidatesTags: ['Stream', 'Streams'],
    }),

    channel: b.query<Channel, string>({
      query: (username) => `api/v1/channels/${u(username)}`,
      providesTags: (_r, _e, username) => [{ type: 'Channel', id: username }],
    }),
    /**
     * Follows or unfollows. The channel's count and button change at once and
     * go back if the server refuses; the server's count replaces the guess.
     */
    setFollow: b.mutation<FollowState, { username: string; follow: boolean }>({
      query: ({ username, follow }) => ({
        url: `api/v1/channels/${u(username)}/follow`,
        method: follow ? 'PUT' : 'DELETE',
      }),
      async onQueryStarted({ username, follow }, { dispatch, queryFulfilled }) {
        const patch = dispatch(
          api.util.updateQueryData('channel', username, (c) => {
            if (c.following === follow) return;
            c.following = follow;
            c.followers = Math.max(0, c.followers + (follow ? 1 : -1));
          }),
        );
        try {
          const { data } = await queryFulfilled;
          dispatch(
            api.util.updateQueryData('channel', username, (c) => {
              c.following = data.following;
              c.followers = data.followers;
            }),
          );
          dispatch(api.util.invalidateTags(['Follows']));
        } catch {
          patch.undo();
        }
      },
    }),
    myFollows: b.query<FollowList, { limit?: number } | void>({
      query: (params) => ({ url: 'api/v1/me/follows', params: params ?? {} }),
      providesTags: ['Follows'],
    }),
    myChannel: b.query<Channel, void>({
      query: () => 'api/v1/me/channel',
      providesTags: ['MyChannel'],
    }),
    updateMyChannel: b.mutation<Channel, UpdateChannelRequest>({
      query: (body) => ({ url: 'api/v1/me/channel', method: 'PATCH', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          void dispatch(api.util.upsertQueryData('myChannel', undefined, data));
          dispatch(api.util.invalidateTags([{ type: 'Channel', id: data.username }]));
        } catch {
          // The form shows the error next to its field.
        }
      },
    }),
    channelRoles: b.query<ChannelRoles, void>({
      query: () => 'api/v1/me/channel/roles',
      providesTags: ['Roles'],
    }),
    setChannelRole: b.mutation<
      ChannelRoles,
      { kind: 'moderators' | 'vips'; username: string; grant: boolean }
    >({
      query: ({ kind, username, grant }) => ({
        url: `api/v1/me/channel/${kind}/${u(username)}`,
        method: grant ? 'PUT' : 'DELETE',
      }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          void dispatch(api.util.upsertQueryData('channelRoles', undefined, data));
        } catch {
          // The panel shows the error.
        }
      },
    }),
    search: b.query<SearchResults, string>({
      query: (q) => ({ url: 'api/v1/search', params: { q } }),
      keepUnusedDataFor: 30,
    }),
    categories: b.query<CategoryList, void>({
      query: () => 'api/v1/categories',
      providesTags: ['Categories'],
    }),
    categoryStreams: b.query<DirectoryStreams, string>({
      query: (slug) => `api/v1/categories/${u(slug)}/streams`,
      providesTags: ['Streams'],
    }),

    /** The newest page only: the header's list, kept current by the notification stream. */
    notifications: b.query<NotificationList, void>({
      query: () => 'api/v1/notifications',
    }),
    /** Marks at once in the header's list; the server's count replaces the guess. */
    markNotificationsRead: b.mutation<UnreadCount, NotificationsRead>({
      query: (body) => ({ url: 'api/v1/notifications/read', method: 'POST', body }),
      async onQueryStarted(arg, { dispatch, queryFulfilled }) {
        const patch = dispatch(
          api.util.updateQueryData('notifications', undefined, (list) => {
            for (const n of list.items) {
              if (n.read || !('all' in arg || arg.ids.includes(n.id))) continue;
              n.read = true;
              list.unreadCount = Math.max(0, list.unreadCount - 1);
            }
            if ('all' in arg) list.unreadCount = 0;
          }),
        );
        try {
          const { data } = await queryFulfilled;
          dispatch(
            api.util.updateQueryData('notifications', undefined, (list) => {
              list.unreadCount = data.unreadCount;
            }),
          );
        } catch {
          patch.undo();
        }
      },
    }),
    /** An older page of the list, for "Load more" (`cursor` is the previous page's nextCursor). */
    notificationsPage: b.query<NotificationList, string>({
      query: (cursor) => ({ url: 'api/v1/notifications', params: { cursor } }),
      keepUnusedDataFor: 0,
    }),
    /** Mutes or unmutes one channel's went-live notifications; answers the whole settings. */
    muteChannel: b.mutation<NotificationSettings, { channel: string; muted: boolean }>({
      query: ({ channel, muted }) => ({
        url: `api/v1/notifications/settings/mutes/${u(channel)}`,
        method: muted ? 'PUT' : 'DELETE',
      }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          void dispatch(api.util.upsertQueryData('notificationSettings', undefined, data));
        } catch {
          // The button shows the error.
        }
      },
    }),
    notificationSettings: b.query<NotificationSettings, void>({
      query: () => 'api/v1/notifications/settings',
      providesTags: ['NotificationSettings'],
    }),
    updateNotificationSettings: b.mutation<NotificationSettings, NotificationSettingsPatch>({
      query: (body) => ({ url: 'api/v1/notifications/settings', method: 'PATCH', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          void dispatch(api.util.upsertQueryData('notificationSettings', undefined, data));
        } catch {
          // The toggle shows the error.
        }
      },
    }),

    adminUsers: b.query<AdminUserList, AdminUserQuery>({
      query: (params) => ({ url: 'admin/v1/users', params }),
      providesTags: ['AdminUsers'],
    }),
    adminSetAdmin: b.mutation<AdminUser, { id: string; admin: boolean }>({
      query: ({ id, admin }) => ({
        url: `admin/v1/users/${u(id)}/admin`,
        method: admin ? 'PUT' : 'DELETE',
      }),
      invalidatesTags: ['AdminUsers', 'Audit'],
    }),
    adminSuspend: b.mutation<AdminUser, { id: string; suspended: boolean }>({
      query: ({ id, suspended }) => ({
        url: `admin/v1/users/${u(id)}/suspension`,
        method: suspended ? 'PUT' : 'DELETE',
        ...(suspended ? { body: {} satisfies SuspendRequest } : {}),
      }),
      invalidatesTags: ['AdminUsers', 'Audit'],
    }),
    audit: b.query<AuditList, AuditQuery>({
      query: (params) => ({ url: 'admin/v1/audit', params }),
      providesTags: ['Audit'],
    }),
  }),
});

export const {
  useRegisterMutation,
  useLoginMutation,
  useLogoutMutation,
  useSocketTicketMutation,
  useUpdateMeMutation,
  useProfileQuery,
  useStreamsQuery,
  useChannelStreamQuery,
  useChannelVideosQuery,
  useVideoQuery,
  useUpdateVideoMutation,
  useDeleteVideoMutation,
  useStreamKeyQuery,
  useRegenerateStreamKeyMutation,
  useMyStreamQuery,
  useUpdateMyStreamMutation,
  useChannelQuery,
  useSetFollowMutation,
  useMyFollowsQuery,
  useMyChannelQuery,
  useUpdateMyChannelMutation,
  useChannelRolesQuery,
  useSetChannelRoleMutation,
  useSearchQuery,
  useCategoriesQuery,
  useCategoryStreamsQuery,
  useNotificationsQuery,
  useMarkNotificationsReadMutation,
  useNotificationSettingsQuery,
  useLazyNotificationsPageQuery,
  useMuteChannelMutation,
  useUpdateNotificationSettingsMutation,
  useAdminUsersQuery,
  useAdminSetAdminMutation,
  useAdminSuspendMutation,
  useAuditQuery,
} = api;
