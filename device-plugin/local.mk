# siov-device-plugin (issue 17): the kubelet device plugin API v1beta1 on
# the gRPC C core, messages by protobuf-c from device-plugin/api.proto.
# Built when configure finds libgrpc-dev, libprotobuf-c-dev and protoc-c
# (--enable-device-plugin, default auto).
EXTRA_DIST += \
	device-plugin/api.proto \
	device-plugin/siov-device-plugin.service.in \
	device-plugin/device-plugin.json.example \
	device-plugin/siov-device-plugin.8.scd

if ENABLE_DEVICE_PLUGIN
sbin_PROGRAMS += siov-device-plugin
nodist_siov_device_plugin_SOURCES = \
	device-plugin/gen/api.pb-c.c \
	device-plugin/gen/api.pb-c.h
siov_device_plugin_SOURCES = \
	device-plugin/siov-device-plugin.c \
	device-plugin/grpc-bridge.c \
	device-plugin/grpc-bridge.h
siov_device_plugin_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/device-plugin/gen -I$(top_srcdir)/device-plugin \
	-DSYSCONFDIR=\"$(sysconfdir)\"
siov_device_plugin_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUFC_CFLAGS) \
	-pthread
siov_device_plugin_LDADD = lib/libsiov.la lib/basic/libbasic.la $(SYSTEMD_LIBS) $(JSONC_LIBS) $(GRPC_LIBS) $(PROTOBUFC_LIBS) \
	-lpthread
BUILT_SOURCES = device-plugin/gen/api.pb-c.h
CLEANFILES += device-plugin/gen/api.proto device-plugin/gen/api.pb-c.c device-plugin/gen/api.pb-c.h

# protoc-c gets the messages only: the services are gRPC's business (and
# protoc-c's service stubs name a member `register`, a C keyword). The
# Python fake kubelet compiles the whole file.
device-plugin/gen/api.pb-c.c device-plugin/gen/api.pb-c.h: $(srcdir)/device-plugin/api.proto
	$(AM_V_GEN)$(MKDIR_P) device-plugin/gen && \
	$(SED) '/^service /,/^}/d' $(srcdir)/device-plugin/api.proto > device-plugin/gen/api.proto && \
	$(PROTOC_C) --c_out=device-plugin/gen -Idevice-plugin/gen device-plugin/gen/api.proto

man8_MANS += device-plugin/siov-device-plugin.8
CLEANFILES += device-plugin/siov-device-plugin.8

systemdsystemunit_DATA += device-plugin/siov-device-plugin.service
CLEANFILES += device-plugin/siov-device-plugin.service
device-plugin/%.service: $(srcdir)/device-plugin/%.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) device-plugin && $(siov_subst) $< > $@.tmp && mv $@.tmp $@
endif
